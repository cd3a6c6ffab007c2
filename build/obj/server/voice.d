build/obj/server/voice.o: server/voice.c server/voice.h server/http.h \
 server/buf.h server/rc.h server/form.h server/rc.h server/app.h \
 server/cfg.h twiml/twiml.h
server/voice.h:
server/http.h:
server/buf.h:
server/rc.h:
server/form.h:
server/rc.h:
server/app.h:
server/cfg.h:
twiml/twiml.h:
