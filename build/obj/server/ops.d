build/obj/server/ops.o: server/ops.c server/ops.h server/http.h \
 server/buf.h server/rc.h server/form.h server/rc.h db/db.h db/outbox.h \
 server/app.h server/cfg.h server/metrics.h server/version.h
server/ops.h:
server/http.h:
server/buf.h:
server/rc.h:
server/form.h:
server/rc.h:
db/db.h:
db/outbox.h:
server/app.h:
server/cfg.h:
server/metrics.h:
server/version.h:
