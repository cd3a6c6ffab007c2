build/obj/server/clock.o: server/clock.c server/clock.h
server/clock.h:
