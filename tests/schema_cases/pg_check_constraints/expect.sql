CREATE TABLE public.product (
	id integer NOT NULL, 
	price numeric(10,2), 
	qty integer, 
	CONSTRAINT product_pkey PRIMARY KEY (id), 
	CONSTRAINT product_price_check CHECK (price >= 0::numeric), 
	CONSTRAINT qty_positive CHECK (qty > 0)
);

