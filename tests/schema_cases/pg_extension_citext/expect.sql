CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;

CREATE TABLE public.app_user (
	id integer NOT NULL, 
	email citext NOT NULL, 
	tags citext[], 
	CONSTRAINT app_user_pkey PRIMARY KEY (id), 
	CONSTRAINT app_user_email_key UNIQUE (email)
);

