DROP INDEX public.child_id_parent;

ALTER TABLE public.child DROP CONSTRAINT child_one;

ALTER TABLE public.parent ADD CONSTRAINT parent_code_key UNIQUE (code);

CREATE INDEX child_parent ON public.child (parent_id);

ALTER TABLE public.child ADD CONSTRAINT child_parent_id_fkey FOREIGN KEY(parent_id) REFERENCES public.parent (id);

