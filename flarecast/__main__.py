from flarecast.cli import app

app(prog_name="flarecast")
