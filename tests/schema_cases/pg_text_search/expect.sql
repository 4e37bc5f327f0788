CREATE TEXT SEARCH DICTIONARY public.english_stem_nostop (TEMPLATE = pg_catalog.snowball, language = 'english');

CREATE TEXT SEARCH CONFIGURATION public.docs_english (PARSER = pg_catalog."default");

ALTER TEXT SEARCH CONFIGURATION public.docs_english ADD MAPPING FOR asciiword WITH public.english_stem_nostop;

ALTER TEXT SEARCH CONFIGURATION public.docs_english ADD MAPPING FOR word WITH public.english_stem_nostop;

ALTER TEXT SEARCH CONFIGURATION public.docs_english ADD MAPPING FOR numword WITH pg_catalog.simple;

ALTER TEXT SEARCH CONFIGURATION public.docs_english ADD MAPPING FOR email WITH pg_catalog.simple;

ALTER TEXT SEARCH CONFIGURATION public.docs_english ADD MAPPING FOR url WITH pg_catalog.simple;

ALTER TEXT SEARCH CONFIGURATION public.docs_english ADD MAPPING FOR host WITH pg_catalog.simple;

ALTER TEXT SEARCH CONFIGURATION public.docs_english ADD MAPPING FOR sfloat WITH pg_catalog.simple;

ALTER TEXT SEARCH CONFIGURATION public.docs_english ADD MAPPING FOR version WITH pg_catalog.simple;

ALTER TEXT SEARCH CONFIGURATION public.docs_english ADD MAPPING FOR hword_numpart WITH pg_catalog.simple;

ALTER TEXT SEARCH CONFIGURATION public.docs_english ADD MAPPING FOR hword_part WITH pg_catalog.english_stem;

ALTER TEXT SEARCH CONFIGURATION public.docs_english ADD MAPPING FOR hword_asciipart WITH pg_catalog.english_stem;

ALTER TEXT SEARCH CONFIGURATION public.docs_english ADD MAPPING FOR numhword WITH pg_catalog.simple;

ALTER TEXT SEARCH CONFIGURATION public.docs_english ADD MAPPING FOR asciihword WITH pg_catalog.english_stem;

ALTER TEXT SEARCH CONFIGURATION public.docs_english ADD MAPPING FOR hword WITH pg_catalog.english_stem;

ALTER TEXT SEARCH CONFIGURATION public.docs_english ADD MAPPING FOR url_path WITH pg_catalog.simple;

ALTER TEXT SEARCH CONFIGURATION public.docs_english ADD MAPPING FOR file WITH pg_catalog.simple;

ALTER TEXT SEARCH CONFIGURATION public.docs_english ADD MAPPING FOR float WITH pg_catalog.simple;

ALTER TEXT SEARCH CONFIGURATION public.docs_english ADD MAPPING FOR int WITH pg_catalog.simple;

ALTER TEXT SEARCH CONFIGURATION public.docs_english ADD MAPPING FOR uint WITH pg_catalog.simple;

CREATE TABLE public.doc (
	id integer NOT NULL, 
	body text NOT NULL, 
	search tsvector GENERATED ALWAYS AS (to_tsvector('public.docs_english'::regconfig, body)) STORED, 
	CONSTRAINT doc_pkey PRIMARY KEY (id)
);

