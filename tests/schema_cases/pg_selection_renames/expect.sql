CREATE TABLE public.app_login (
	id integer NOT NULL, 
	user_id integer, 
	at timestamptz, 
	CONSTRAINT app_login_pkey PRIMARY KEY (id)
);

CREATE TABLE public.users (
	id integer NOT NULL, 
	username varchar(30) NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (username)
);

ALTER TABLE public.app_login ADD CONSTRAINT app_login_user_id_fkey FOREIGN KEY(user_id) REFERENCES public.users (id);

