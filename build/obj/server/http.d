build/obj/server/http.o: server/http.c server/http.h server/buf.h \
 server/rc.h server/form.h server/rc.h db/db.h db/tokens.h server/app.h \
 server/cfg.h server/clock.h server/log.h server/metrics.h server/sig.h \
 twiml/twiml.h
server/http.h:
server/buf.h:
server/rc.h:
server/form.h:
server/rc.h:
db/db.h:
db/tokens.h:
server/app.h:
server/cfg.h:
server/clock.h:
server/log.h:
server/metrics.h:
server/sig.h:
twiml/twiml.h:
