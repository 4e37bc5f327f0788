CREATE TABLE public.order_line (
	region char(2) NOT NULL, 
	order_no integer NOT NULL, 
	line smallint NOT NULL, 
	qty integer NOT NULL, 
	CONSTRAINT order_line_pkey PRIMARY KEY (region, order_no, line)
);

CREATE TABLE public.orders (
	region char(2) NOT NULL, 
	order_no integer NOT NULL, 
	placed date NOT NULL, 
	CONSTRAINT orders_pkey PRIMARY KEY (region, order_no)
);

ALTER TABLE public.order_line ADD CONSTRAINT order_line_region_order_no_fkey FOREIGN KEY(region, order_no) REFERENCES public.orders (region, order_no) ON DELETE CASCADE;

