build/obj/db/db.o: db/db.c db/db.h server/rc.h server/clock.h \
 server/embedded.h server/log.h
db/db.h:
server/rc.h:
server/clock.h:
server/embedded.h:
server/log.h:
