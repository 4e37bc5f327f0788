CREATE TABLE public.customers (
	id integer NOT NULL, 
	name varchar(80) NOT NULL, 
	email varchar(120), 
	active boolean DEFAULT true NOT NULL, 
	PRIMARY KEY (id)
);

CREATE TABLE public.orders (
	id integer NOT NULL, 
	customer_id integer NOT NULL, 
	amount numeric(10,2) NOT NULL, 
	PRIMARY KEY (id)
);

CREATE INDEX customer_id ON public.orders (customer_id);

ALTER TABLE public.orders ADD CONSTRAINT orders_ibfk_1 FOREIGN KEY(customer_id) REFERENCES public.customers (id);

CREATE VIEW public.active_customers AS SELECT "customers"."id" AS "id", "customers"."name" AS "name", COALESCE("customers"."email", 'none') AS "contact" FROM "public"."customers" WHERE CAST("customers"."active" AS INT) = 1;

CREATE VIEW public.customer_totals AS SELECT "c"."id" AS "id", "c"."name" AS "name", COUNT("o"."id") AS "orders", SUM("o"."amount") AS "total" FROM ("public"."active_customers" AS "c" LEFT JOIN "public"."orders" AS "o" ON ("o"."customer_id" = "c"."id")) GROUP BY "c"."id", "c"."name";

