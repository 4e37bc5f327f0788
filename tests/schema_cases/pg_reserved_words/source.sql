CREATE TABLE "order" ("select" integer PRIMARY KEY, "user" text, "group" varchar(10), "from" date);
CREATE INDEX "where" ON "order" ("group");
