CREATE TABLE "café" ("naïve" integer PRIMARY KEY, "名前" text NOT NULL, "prix€" numeric(8,2));
CREATE UNIQUE INDEX "café_名前_idx" ON "café" ("名前");
