build/obj/server/app.o: server/app.c server/app.h server/cfg.h \
 server/rc.h server/rc.h db/db.h server/log.h server/metrics.h \
 server/buf.h
server/app.h:
server/cfg.h:
server/rc.h:
server/rc.h:
db/db.h:
server/log.h:
server/metrics.h:
server/buf.h:
