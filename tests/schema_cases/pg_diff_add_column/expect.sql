ALTER TABLE public.item ADD COLUMN sku varchar(20);

