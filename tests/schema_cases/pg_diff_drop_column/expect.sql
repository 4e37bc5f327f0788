ALTER TABLE public.item DROP COLUMN legacy_code;

