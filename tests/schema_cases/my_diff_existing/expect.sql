ALTER TABLE public.account DROP COLUMN extra;

ALTER TABLE public.account ALTER COLUMN id TYPE bigint USING id::bigint;

ALTER TABLE public.account ALTER COLUMN name TYPE varchar(20) USING name::varchar(20);

ALTER TABLE public.account ALTER COLUMN balance TYPE numeric(10,2) USING balance::numeric(10,2);

ALTER TABLE public.account ALTER COLUMN opened TYPE timestamp USING opened::timestamp;

ALTER TABLE public.account ALTER COLUMN name SET NOT NULL;

