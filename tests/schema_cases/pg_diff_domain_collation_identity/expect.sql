ALTER DOMAIN public.email DROP CONSTRAINT email_check;

ALTER DOMAIN public.email DROP CONSTRAINT email_len;

ALTER DOMAIN public.email SET DEFAULT 'nobody@example.org'::text;

ALTER DOMAIN public.email SET NOT NULL;

ALTER DOMAIN public.email ADD CONSTRAINT email_check CHECK ((VALUE ~~ '%@%'::text));

ALTER TABLE public.account ALTER COLUMN country TYPE public.code;

ALTER TABLE public.account ALTER COLUMN name TYPE text COLLATE "C";

ALTER TABLE public.account ALTER COLUMN nick TYPE text COLLATE "default";

ALTER TABLE public.account ALTER COLUMN id SET GENERATED ALWAYS;

ALTER TABLE public.account ALTER COLUMN id SET START WITH 100;

ALTER TABLE public.account ALTER COLUMN id SET INCREMENT BY 5;

