"""The outbox: every piece of background work is a row written in the transaction of the change that causes it.

A service calls ``outbox_enqueue`` inside its transaction; after the commit the row is handed to Celery at once
(``outbox_send``), and whatever could not be handed over (the broker was down) or was lost (a broker restarted
without persistence, a worker killed) is handed over again by the dispatcher that Celery beat runs every few
seconds (``outbox_dispatch``). A request therefore never fails for work that was committed, and no committed
work is lost. The task claims its row before it runs, so that a message delivered twice runs once; a worker
beats a heartbeat on the row while the task runs, so that the dispatcher finds a task whose worker died and
runs it again, up to a limit, after which the task's ``on_failure`` handler tells the user.

This app sits below every domain app: it knows tasks only by their Celery names.
"""
