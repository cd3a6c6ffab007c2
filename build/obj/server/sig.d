build/obj/server/sig.o: server/sig.c server/sig.h server/form.h \
 server/rc.h server/log.h
server/sig.h:
server/form.h:
server/rc.h:
server/log.h:
