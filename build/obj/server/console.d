build/obj/server/console.o: server/console.c server/console.h \
 server/http.h server/buf.h server/rc.h server/form.h server/rc.h \
 server/app.h server/cfg.h server/embedded.h
server/console.h:
server/http.h:
server/buf.h:
server/rc.h:
server/form.h:
server/rc.h:
server/app.h:
server/cfg.h:
server/embedded.h:
