CREATE TABLE public.keyed (
	code varchar(10) NOT NULL, 
	v integer, 
	UNIQUE (code)
);

CREATE TABLE public.loose (
	a integer, 
	b integer
);

