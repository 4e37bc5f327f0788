CREATE TABLE public.line_items (
	id integer NOT NULL, 
	price numeric(10,2) NOT NULL, 
	qty integer NOT NULL, 
	first_name varchar(40), 
	last_name varchar(40), 
	total numeric(12,2) GENERATED ALWAYS AS ("price" * "qty") STORED, 
	label varchar(81) GENERATED ALWAYS AS ("first_name" || ' ' || "last_name") STORED, 
	discounted numeric(12,2) GENERATED ALWAYS AS (COALESCE("price", 0) - 1) STORED, 
	name_bytes integer, 
	big_order boolean GENERATED ALWAYS AS ((CAST((CASE WHEN "qty" > 10 THEN 1 ELSE 0 END) AS integer) <> 0)) STORED, 
	PRIMARY KEY (id)
);

CREATE INDEX line_items_label ON public.line_items (label);

