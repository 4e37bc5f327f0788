CREATE TABLE public.times (
	id integer NOT NULL, 
	created timestamp DEFAULT CURRENT_TIMESTAMP NOT NULL, 
	precise timestamp(6), 
	zeroed timestamp, 
	stamp timestamptz, 
	stamp_now timestamptz DEFAULT CURRENT_TIMESTAMP NOT NULL, 
	day date, 
	zero_day date, 
	clock time, 
	clock3 time(3), 
	PRIMARY KEY (id)
);

CREATE OR REPLACE FUNCTION public.times_stamp_now_on_update() RETURNS trigger LANGUAGE plpgsql AS $ferry$BEGIN IF NEW.stamp_now IS NOT DISTINCT FROM OLD.stamp_now AND NEW IS DISTINCT FROM OLD THEN NEW.stamp_now := CURRENT_TIMESTAMP; END IF; RETURN NEW; END$ferry$;

CREATE TRIGGER times_stamp_now_on_update BEFORE UPDATE ON public.times FOR EACH ROW EXECUTE FUNCTION public.times_stamp_now_on_update();

