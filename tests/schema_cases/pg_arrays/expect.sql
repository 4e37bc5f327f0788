CREATE TABLE public.tagged (
	id integer NOT NULL, 
	tags text[] DEFAULT '{}'::text[] NOT NULL, 
	scores integer[], 
	codes varchar(10)[], 
	CONSTRAINT tagged_pkey PRIMARY KEY (id)
);

