CREATE TABLE public.department (
	id integer NOT NULL, 
	manager_id integer, 
	CONSTRAINT department_pkey PRIMARY KEY (id)
);

CREATE TABLE public.employee (
	id integer NOT NULL, 
	department_id integer, 
	CONSTRAINT employee_pkey PRIMARY KEY (id)
);

CREATE TABLE public.node (
	id integer NOT NULL, 
	parent_id integer, 
	CONSTRAINT node_pkey PRIMARY KEY (id)
);

ALTER TABLE public.department ADD CONSTRAINT department_manager_fk FOREIGN KEY(manager_id) REFERENCES public.employee (id);

ALTER TABLE public.employee ADD CONSTRAINT employee_department_id_fkey FOREIGN KEY(department_id) REFERENCES public.department (id);

ALTER TABLE public.node ADD CONSTRAINT node_parent_id_fkey FOREIGN KEY(parent_id) REFERENCES public.node (id);

