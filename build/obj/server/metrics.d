build/obj/server/metrics.o: server/metrics.c server/metrics.h \
 server/buf.h server/rc.h server/rc.h
server/metrics.h:
server/buf.h:
server/rc.h:
server/rc.h:
