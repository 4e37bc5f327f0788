CREATE TABLE "CamelTable" ("MixedId" integer PRIMARY KEY, "DisplayName" varchar(40), lower_col int);
CREATE TABLE "Child" ("Id" int PRIMARY KEY, "ParentId" int REFERENCES "CamelTable" ("MixedId"));
