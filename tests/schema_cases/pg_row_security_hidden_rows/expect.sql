CREATE TABLE public.doc (
	id integer NOT NULL, 
	owner text NOT NULL, 
	CONSTRAINT doc_pkey PRIMARY KEY (id)
);

CREATE TABLE public.open_doc (
	id integer NOT NULL, 
	CONSTRAINT open_doc_pkey PRIMARY KEY (id)
);

ALTER TABLE public.doc ENABLE ROW LEVEL SECURITY;

ALTER TABLE public.doc FORCE ROW LEVEL SECURITY;

CREATE POLICY own_docs ON public.doc AS PERMISSIVE FOR ALL TO PUBLIC USING ((owner = CURRENT_USER));

