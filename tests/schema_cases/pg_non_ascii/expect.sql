CREATE TABLE public."café" (
	"naïve" integer NOT NULL, 
	"名前" text NOT NULL, 
	"prix€" numeric(8,2), 
	CONSTRAINT "café_pkey" PRIMARY KEY ("naïve")
);

CREATE UNIQUE INDEX "café_名前_idx" ON public."café" ("名前");

