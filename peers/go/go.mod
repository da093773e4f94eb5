module fanout/peers/go

go 1.19
