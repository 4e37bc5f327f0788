CREATE TABLE public.account (
	id integer NOT NULL, 
	email text NOT NULL, 
	deleted boolean DEFAULT false NOT NULL, 
	tags text[], 
	CONSTRAINT account_pkey PRIMARY KEY (id)
);

CREATE INDEX account_deleted_email ON public.account (deleted, email);

CREATE UNIQUE INDEX account_email_live ON public.account (lower(email)) WHERE (NOT deleted);

CREATE INDEX account_tags ON public.account USING gin (tags);

