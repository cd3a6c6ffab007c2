build/obj/server/main.o: server/main.c db/db.h server/rc.h db/demo.h \
 db/tokens.h server/app.h server/cfg.h server/rc.h server/clock.h \
 server/engine.h server/http.h server/buf.h server/form.h server/log.h \
 server/routes.h server/version.h
db/db.h:
server/rc.h:
db/demo.h:
db/tokens.h:
server/app.h:
server/cfg.h:
server/rc.h:
server/clock.h:
server/engine.h:
server/http.h:
server/buf.h:
server/form.h:
server/log.h:
server/routes.h:
server/version.h:
