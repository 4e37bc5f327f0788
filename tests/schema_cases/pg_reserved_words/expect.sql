CREATE TABLE public."order" (
	"select" integer NOT NULL, 
	"user" text, 
	"group" varchar(10), 
	"from" date, 
	CONSTRAINT order_pkey PRIMARY KEY ("select")
);

CREATE INDEX "where" ON public."order" ("group");

