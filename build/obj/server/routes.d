build/obj/server/routes.o: server/routes.c server/routes.h server/http.h \
 server/buf.h server/rc.h server/form.h server/rc.h server/console.h \
 server/ops.h server/voice.h
server/routes.h:
server/http.h:
server/buf.h:
server/rc.h:
server/form.h:
server/rc.h:
server/console.h:
server/ops.h:
server/voice.h:
