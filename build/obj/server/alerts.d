build/obj/server/alerts.o: server/alerts.c server/alerts.h server/buf.h \
 server/rc.h server/rc.h
server/alerts.h:
server/buf.h:
server/rc.h:
server/rc.h:
