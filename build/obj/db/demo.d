build/obj/db/demo.o: db/demo.c db/demo.h db/db.h server/rc.h \
 server/clock.h server/log.h
db/demo.h:
db/db.h:
server/rc.h:
server/clock.h:
server/log.h:
