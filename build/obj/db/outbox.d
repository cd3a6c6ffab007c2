build/obj/db/outbox.o: db/outbox.c db/outbox.h db/db.h server/rc.h \
 server/clock.h server/log.h
db/outbox.h:
db/db.h:
server/rc.h:
server/clock.h:
server/log.h:
