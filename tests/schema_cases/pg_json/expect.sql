CREATE TABLE public.doc (
	id integer NOT NULL, 
	body jsonb DEFAULT '{}'::jsonb NOT NULL, 
	raw json, 
	CONSTRAINT doc_pkey PRIMARY KEY (id)
);

CREATE INDEX doc_body_gin ON public.doc USING gin (body);

