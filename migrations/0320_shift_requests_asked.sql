-- 0320_shift_requests_asked.sql — a "PLANTAO ASSUMIR" request keeps the shift it was answered
-- about: whom it replaces and until when (server/twilio/sms.c). The "SIM" takes exactly that;
-- when the shift changed meanwhile it says so and asks again. NULL: a request made before.
ALTER TABLE shift_requests ADD COLUMN replaces_person INTEGER;
ALTER TABLE shift_requests ADD COLUMN shift_end INTEGER;
