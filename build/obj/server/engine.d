build/obj/server/engine.o: server/engine.c server/engine.h server/rc.h \
 db/db.h server/app.h server/cfg.h server/rc.h server/clock.h \
 server/log.h
server/engine.h:
server/rc.h:
db/db.h:
server/app.h:
server/cfg.h:
server/rc.h:
server/clock.h:
server/log.h:
