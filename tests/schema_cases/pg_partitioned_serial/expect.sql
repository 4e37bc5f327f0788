CREATE SEQUENCE public.event_id_seq AS bigint INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;

CREATE SEQUENCE public.unused_seq AS bigint INCREMENT BY 1 START WITH 1 MINVALUE 1 MAXVALUE 9223372036854775807 NO CYCLE;

CREATE TABLE public.event (
	id bigint DEFAULT nextval('public.event_id_seq'::regclass) NOT NULL, 
	at timestamptz NOT NULL, 
	kind text NOT NULL, 
	CONSTRAINT event_pkey PRIMARY KEY (id, at, kind)
)
 PARTITION BY RANGE (at);

CREATE TABLE public.event_2024 PARTITION OF public.event FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2025-01-01 00:00:00+00') PARTITION BY LIST (kind);

CREATE TABLE public.event_2024_click PARTITION OF public.event_2024 FOR VALUES IN ('click');

CREATE TABLE public.event_default PARTITION OF public.event DEFAULT;

CREATE INDEX event_default_kind ON public.event_default USING btree (kind);

