CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE public.fixture (
	id integer NOT NULL, 
	league citext NOT NULL, 
	year smallint NOT NULL, 
	PRIMARY KEY (id)
);

CREATE TABLE public.player (
	id integer NOT NULL, 
	team_id integer, 
	PRIMARY KEY (id)
);

CREATE TABLE public.season (
	league citext NOT NULL, 
	year smallint NOT NULL, 
	PRIMARY KEY (league, year)
);

CREATE TABLE public.team (
	id integer NOT NULL, 
	captain_id integer, 
	PRIMARY KEY (id)
);

CREATE INDEX fixture_season ON public.fixture (league, year);

CREATE INDEX player_team ON public.player (team_id);

CREATE INDEX captain_id ON public.team (captain_id);

ALTER TABLE public.fixture ADD CONSTRAINT fixture_season FOREIGN KEY(league, year) REFERENCES public.season (league, year) ON DELETE CASCADE;

ALTER TABLE public.player ADD CONSTRAINT player_team FOREIGN KEY(team_id) REFERENCES public.team (id);

ALTER TABLE public.team ADD CONSTRAINT team_captain FOREIGN KEY(captain_id) REFERENCES public.player (id);

