CREATE TABLE public.log (
	at timestamptz NOT NULL, 
	msg text
)
 PARTITION BY RANGE (at);

CREATE TABLE public.plain (
	id integer NOT NULL, 
	CONSTRAINT plain_pkey PRIMARY KEY (id)
);

CREATE TABLE public.log_2024 PARTITION OF public.log FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2025-01-01 00:00:00+00');

CREATE VIEW public.plain_view AS
 SELECT plain.id
   FROM public.plain;

CREATE MATERIALIZED VIEW public.plain_mv AS
 SELECT plain.id
   FROM public.plain;

