build/obj/server/cfg.o: server/cfg.c server/cfg.h server/rc.h \
 server/log.h
server/cfg.h:
server/rc.h:
server/log.h:
