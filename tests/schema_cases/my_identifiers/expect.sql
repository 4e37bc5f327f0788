CREATE TABLE public."Order" (
	"Select" integer NOT NULL, 
	"UserName" varchar(40), 
	"Ünïcode" text, 
	"group" integer, 
	PRIMARY KEY ("Select")
);

CREATE TABLE public."naïve_表" (
	id integer NOT NULL, 
	"OrderRef" integer, 
	PRIMARY KEY (id)
);

CREATE INDEX "FK_Order" ON public."naïve_表" ("OrderRef");

ALTER TABLE public."naïve_表" ADD CONSTRAINT "FK_Order" FOREIGN KEY("OrderRef") REFERENCES public."Order" ("Select");

