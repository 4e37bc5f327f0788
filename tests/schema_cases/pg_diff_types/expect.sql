ALTER TABLE public.t ALTER COLUMN small TYPE integer USING small::integer;

ALTER TABLE public.t ALTER COLUMN wide TYPE bigint USING wide::bigint;

ALTER TABLE public.t ALTER COLUMN name TYPE varchar(10) USING name::varchar(10);

ALTER TABLE public.t ALTER COLUMN amount TYPE numeric(10,1) USING amount::numeric(10,1);

ALTER TABLE public.t ALTER COLUMN at TYPE timestamp USING at::timestamp;

ALTER TABLE public.t ALTER COLUMN txt TYPE varchar(40) USING txt::varchar(40);

