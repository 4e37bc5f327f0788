CREATE TABLE public.account (
	id bigint NOT NULL, 
	name text NOT NULL, 
	CONSTRAINT account_pkey PRIMARY KEY (id)
);

GRANT SELECT ON TABLE public.account TO ferry_nobody;

GRANT CREATE, USAGE ON SCHEMA public TO ferry_src_app;

ALTER TABLE public.account OWNER TO ferry_src_app;

