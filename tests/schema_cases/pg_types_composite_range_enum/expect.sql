CREATE TYPE public."Role" AS ENUM ('USER', 'ADMIN');

CREATE TYPE public.address AS (street text, zip character varying(10));

CREATE TYPE public.floatrange AS RANGE (SUBTYPE = double precision, SUBTYPE_OPCLASS = float8_ops, SUBTYPE_DIFF = float8mi, MULTIRANGE_TYPE_NAME = public.floatmultirange);

CREATE DOMAIN public.percent AS numeric(5,2);

ALTER DOMAIN public.percent SET DEFAULT 0;

ALTER DOMAIN public.percent SET NOT NULL;

ALTER DOMAIN public.percent ADD CONSTRAINT percent_check CHECK (((VALUE >= (0)::numeric) AND (VALUE <= (100)::numeric)));

CREATE TABLE public."User" (
	id integer NOT NULL, 
	role public."Role" DEFAULT 'USER'::public."Role" NOT NULL, 
	roles public."Role"[], 
	home public.address, 
	band public.floatrange, 
	discount public.percent, 
	CONSTRAINT "User_pkey" PRIMARY KEY (id)
);

