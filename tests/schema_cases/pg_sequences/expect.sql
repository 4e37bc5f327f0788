CREATE SEQUENCE public.document_id_seq AS integer INCREMENT BY 1 START WITH 1 MINVALUE 1 MAXVALUE 100000 CYCLE;

CREATE SEQUENCE public.order_number_seq AS bigint INCREMENT BY 10 START WITH 1000 MINVALUE 1 MAXVALUE 9223372036854775807 NO CYCLE;

CREATE SEQUENCE public.tickets_id_seq AS integer INCREMENT BY 1 START WITH 1 MINVALUE 1 MAXVALUE 2147483647 NO CYCLE;

CREATE TABLE public.credit_notes (
	id integer DEFAULT nextval('public.document_id_seq'::regclass) NOT NULL, 
	note text, 
	CONSTRAINT credit_notes_pkey PRIMARY KEY (id)
);

CREATE TABLE public.events (
	id bigint GENERATED ALWAYS AS IDENTITY (INCREMENT BY 5), 
	CONSTRAINT events_pkey PRIMARY KEY (id)
);

CREATE TABLE public.invoices (
	id integer DEFAULT nextval('public.document_id_seq'::regclass) NOT NULL, 
	note text, 
	CONSTRAINT invoices_pkey PRIMARY KEY (id)
);

CREATE TABLE public.tickets (
	id integer DEFAULT nextval('public.tickets_id_seq'::regclass) NOT NULL, 
	parent_id integer DEFAULT nextval('public.tickets_id_seq'::regclass), 
	CONSTRAINT tickets_pkey PRIMARY KEY (id)
);

