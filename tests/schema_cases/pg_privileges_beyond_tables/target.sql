-- The mapped owner must be able to own objects here (ALTER ... OWNER TO checks CREATE).
GRANT CREATE, USAGE ON SCHEMA public TO ferry_dst_app;
