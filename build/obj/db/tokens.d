build/obj/db/tokens.o: db/tokens.c db/tokens.h db/db.h server/rc.h \
 server/clock.h server/log.h
db/tokens.h:
db/db.h:
server/rc.h:
server/clock.h:
server/log.h:
