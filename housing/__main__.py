from housing.cli import app

app(prog_name="housing")
