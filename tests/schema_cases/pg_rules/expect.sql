CREATE TABLE public.doc (
	id integer NOT NULL, 
	body text NOT NULL, 
	CONSTRAINT doc_pkey PRIMARY KEY (id)
);

CREATE TABLE public.doc_log (
	doc_id integer, 
	action text
);

CREATE VIEW public.doc_titles AS
 SELECT doc.id,
    "left"(doc.body, 20) AS title
   FROM public.doc;

CREATE RULE doc_logged AS
    ON INSERT TO public.doc DO  INSERT INTO public.doc_log (doc_id, action)
  VALUES (new.id, 'insert'::text);

CREATE RULE doc_no_delete AS
    ON DELETE TO public.doc DO INSTEAD NOTHING;

ALTER TABLE public.doc DISABLE RULE doc_no_delete;

CREATE RULE doc_titles_update AS
    ON UPDATE TO public.doc_titles DO INSTEAD  UPDATE public.doc SET body = new.title
  WHERE (doc.id = old.id);

