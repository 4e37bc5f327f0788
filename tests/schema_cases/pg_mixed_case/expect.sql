CREATE TABLE public."CamelTable" (
	"MixedId" integer NOT NULL, 
	"DisplayName" varchar(40), 
	lower_col integer, 
	CONSTRAINT "CamelTable_pkey" PRIMARY KEY ("MixedId")
);

CREATE TABLE public."Child" (
	"Id" integer NOT NULL, 
	"ParentId" integer, 
	CONSTRAINT "Child_pkey" PRIMARY KEY ("Id")
);

ALTER TABLE public."Child" ADD CONSTRAINT "Child_ParentId_fkey" FOREIGN KEY("ParentId") REFERENCES public."CamelTable" ("MixedId");

